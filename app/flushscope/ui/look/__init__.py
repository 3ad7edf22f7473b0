"""How the window looks and speaks: palette and wording shared by the views."""
