print("Yes\u3000")
