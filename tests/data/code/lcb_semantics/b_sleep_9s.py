import time
time.sleep(9)
print(1)
