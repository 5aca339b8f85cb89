n = int(input())
a = list(map(int, input().split()))
order = sorted(range(n), key=lambda i: -a[i])
print(order[1] + 1)
