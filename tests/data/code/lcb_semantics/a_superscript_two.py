print("\u00b2")
