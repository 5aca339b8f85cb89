print("1\u20282")
