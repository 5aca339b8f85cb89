class Solution:
    def maximumTotalSum(self, maximumHeight: List[int]) -> int:
        total, ceiling = 0, float("inf")
        for h in sorted(maximumHeight, reverse=True):
            ceiling = min(h, ceiling - 1)
            if ceiling <= 0:
                return -1
            total += ceiling
        return total
