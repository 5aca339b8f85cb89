from fractions import Fraction
class Solution:
    def f(self, x):
        return Fraction(1, 2)
