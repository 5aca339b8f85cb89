t = int(input())
for _ in range(t):
    n = int(input())
    a = list(map(int, input().split()))
    print(a[-1] + max(a[:-1]))
