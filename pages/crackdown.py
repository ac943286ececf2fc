"""crackdown page (being built)."""

import streamlit as st

from pages._shared import current_filter

filters = current_filter()
st.header("crackdown")
