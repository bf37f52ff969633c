"""The Textual console (the dispatcher's board). Textual is imported only under this package."""
