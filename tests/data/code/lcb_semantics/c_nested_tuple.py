class Solution:
    def f(self, x):
        return [(x, x)]
