class Solution:
    def resultsArray(self, nums: List[int], k: int) -> List[int]:
        out = []
        for i in range(len(nums) - k + 1):
            window = nums[i:i + k]
            ok = all(window[j + 1] == window[j] + 1 for j in range(k - 1))
            out.append(window[-1] if ok else -1)
        return out
