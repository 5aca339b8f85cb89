print("1\u200b2")
