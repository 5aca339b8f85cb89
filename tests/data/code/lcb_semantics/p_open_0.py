print(open(0).read().split()[1])
