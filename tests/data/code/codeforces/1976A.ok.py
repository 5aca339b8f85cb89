t = int(input())
for _ in range(t):
    input()
    s = input().strip()
    print("YES" if list(s) == sorted(s) else "NO")
