print("1\x1f2")
