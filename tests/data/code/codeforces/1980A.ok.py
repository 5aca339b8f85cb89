t = int(input())
for _ in range(t):
    n, m = map(int, input().split())
    a = input().strip()
    print(sum(max(0, m - a.count(c)) for c in "ABCDEFG"))
