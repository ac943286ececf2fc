"""Start the dashboard (``streamlit run app.py``) with Streamlit's pages-folder mode off.

Streamlit runs the first session of a process in its legacy pages-folder mode
when a ``pages/`` folder sits beside the entry script, and in that mode a
shared link to a page (``/issue-map?days=7``) ends on a "Page not found"
dialog. ``app.py`` leaves the mode on its first run, which is too late for the
link that started that run; setting the flag before the server starts is not.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hotspot.config import PROJECT_ROOT

__all__ = ["APP", "serve"]

#: The dashboard's entry script.
APP = PROJECT_ROOT / "app.py"


def serve(streamlit_args: Sequence[str] = ()) -> int:
    """Run the dashboard in this process until it is stopped.

    Parameters
    ----------
    streamlit_args : sequence of str
        Options for ``streamlit run`` (``--server.port 8502``, ...).

    Returns
    -------
    int
        Streamlit's exit status.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    return (
        cli.main(["run", str(APP), *streamlit_args], prog_name="streamlit", standalone_mode=False)
        or 0
    )


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
