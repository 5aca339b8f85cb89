import sys
print(sys.stdin.buffer.read().split()[1].decode())
