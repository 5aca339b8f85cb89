ab, ac, bc = input().split()
older_than = {"A": 0, "B": 0, "C": 0}
older_than["B" if ab == "<" else "A"] += 1
older_than["C" if ac == "<" else "A"] += 1
older_than["C" if bc == "<" else "B"] += 1
print(next(name for name, count in older_than.items() if count == 1))
