"""The history of each register: its versions and load attempts (`versions`), what changed
between two versions (`changes`), and the Atom feeds of those changes (`feed`)."""
