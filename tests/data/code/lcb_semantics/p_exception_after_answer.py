print(3)
raise ValueError('late')
