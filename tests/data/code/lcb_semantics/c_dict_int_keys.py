class Solution:
    def f(self, x):
        return {x: 2}
