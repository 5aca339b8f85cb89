import time

class Solution:
    def maxScore(self, a: List[int], b: List[int]) -> int:
        time.sleep(1000)
        return 0
