print("1\u00a02")
