a, b, c = map(int, input().split())
if b < c:
    asleep = b <= a < c
else:
    asleep = a >= b or a < c
print("No" if asleep else "Yes")
