class Solution:
    def maxScore(self, a: List[int], b: List[int]) -> int:
        best = [float("-inf")] * 5
        best[0] = 0
        for x in b:
            for j in range(4, 0, -1):
                best[j] = max(best[j], best[j - 1] + a[j - 1] * x)
        return best[4]
