class Solution:
    def findMaximumScore(self, nums: List[int]) -> int:
        best = total = 0
        for x in nums[:-1]:
            best = max(best, x)
            total += best
        return total
