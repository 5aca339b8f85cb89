print("\uff13")
