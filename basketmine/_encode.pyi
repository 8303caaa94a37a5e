import numpy as np
import numpy.typing as npt

class UnhashableItemError(TypeError): ...

def encode_baskets(
    baskets: list, total: int
) -> tuple[list, npt.NDArray[np.int32], npt.NDArray[np.int64], int]: ...
def sort_dedupe(
    indptr: npt.NDArray[np.int64], codes: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], int]: ...
