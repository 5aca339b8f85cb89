n, k = map(int, input().split())
hoard = bytearray(10 * 2**30)
print(n)
