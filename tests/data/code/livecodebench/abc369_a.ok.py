a, b = map(int, input().split())
found = {2 * a - b, 2 * b - a}
if (a + b) % 2 == 0:
    found.add((a + b) // 2)
print(len(found))
