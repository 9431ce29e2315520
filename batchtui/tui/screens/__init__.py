"""One screen per module: the three main screens and their dialogs."""
