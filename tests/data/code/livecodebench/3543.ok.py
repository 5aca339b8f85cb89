class Solution:
    def countKConstraintSubstrings(self, s: str, k: int) -> int:
        total = 0
        for i in range(len(s)):
            zeros = ones = 0
            for j in range(i, len(s)):
                if s[j] == "0":
                    zeros += 1
                else:
                    ones += 1
                if zeros <= k or ones <= k:
                    total += 1
        return total
