from collections import Counter
class Solution:
    def f(self, x):
        return Counter("aab")
