"""Folium layer builders: data in, a FeatureGroup or Layer out."""
