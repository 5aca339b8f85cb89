from decimal import Decimal
class Solution:
    def f(self, x):
        return Decimal("3.0")
