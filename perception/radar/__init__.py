"""4D imaging radar point handling."""
