import os
os.write(1, b'3\n')
