t = int(input())
for _ in range(t):
    v = list(map(int, input().split()))
    for _ in range(5):
        v.sort()
        v[0] += 1
    print(v[0] * v[1] * v[2])
