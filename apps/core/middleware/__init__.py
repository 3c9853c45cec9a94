"""Request middleware shared by every app."""
