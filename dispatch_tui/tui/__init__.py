"""The Textual console (issue: the dispatcher console). Textual is imported only under this package."""
