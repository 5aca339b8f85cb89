def add(a, b):
    return 0

class Solution:
    def add(self, a, b):
        return a + b
