"""Examples of from-scratch models to check with `nncompare --scratch-impl`."""
