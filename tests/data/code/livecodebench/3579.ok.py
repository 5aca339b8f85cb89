from itertools import permutations

class Solution:
    def maxGoodNumber(self, nums: List[int]) -> int:
        return max(int("".join(bin(x)[2:] for x in order), 2) for order in permutations(nums))
