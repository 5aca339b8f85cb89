n, t, a = map(int, input().split())
print({}["missing"])
