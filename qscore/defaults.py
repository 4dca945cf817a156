"""Default parameters, in one place, named as in the paper."""

#: Width of the reference Gaussian (Å). 0.4 is the EMDB's value and MapQ's GUI default.
SIGMA = 0.4
#: Sampling mode: MapQ's single-process path.
MODE = "direct"
MODES = ("direct", "mapq-multiprocess")
#: Resolution window (Å) for Q_relative_resolution (paper §7).
WINDOW = 0.5
#: Scale-factor scan for B = f·(1 − Q) (paper A1.5): 0, 20, ..., 300.
F_RANGE = (0.0, 300.0, 20.0)
#: Model-map threshold for CC / CC-mean (paper A1.4).
CC_THRESHOLD = 0.01
#: Margin (Å) kept around the model when a large map is cropped.
CROP_MARGIN = 8.0
#: Local FSC from half maps: edge of the sliding window (Å), 5–7 times the resolution one
#: expects to measure; spacing (Å) of the centres; FSC threshold (Rosenthal & Henderson's 0.143).
LOCAL_FSC_WINDOW = 20.0
LOCAL_FSC_STEP = 2.0
LOCAL_FSC_THRESHOLD = 0.143
