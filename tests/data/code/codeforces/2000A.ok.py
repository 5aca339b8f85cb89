t = int(input())
for _ in range(t):
    s = input().strip()
    rest = s[2:]
    ok = s.startswith("10") and rest != "" and rest[0] != "0" and int(rest) >= 2
    print("YES" if ok else "NO")
