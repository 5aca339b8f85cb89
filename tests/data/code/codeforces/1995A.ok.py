t = int(input())
for _ in range(t):
    n, k = map(int, input().split())
    lengths = [n] + [m for m in range(n - 1, 0, -1) for _ in range(2)]
    used = 0
    while k > 0:
        k -= lengths[used]
        used += 1
    print(used)
