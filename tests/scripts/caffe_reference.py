"""OpenCV 4.x DNN as the independent Caffe reference of the conversion tests, on a real photo."""
import cv2
import numpy as np
import pytest

CAFFE_BGR_MEAN = np.float32([104, 117, 123])
HEAD_RTOL = 1e-4


def photo_path():
    """matplotlib's bundled photo (sample_data/grace_hopper.jpg); skips where matplotlib is absent."""
    cbook = pytest.importorskip('matplotlib.cbook')
    return cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)


def caffe_input(path, size):
    """The Caffe SSD test transform: BGR, resized to size x size, mean subtracted (HWC float32)."""
    image = cv2.resize(cv2.imread(path), (size, size), interpolation=cv2.INTER_LINEAR)
    return image.astype(np.float32) - CAFFE_BGR_MEAN


def opencv_forward(deploy_path, caffemodel, image, names):
    """OpenCV's outputs of the layers ``names`` for one HWC image."""
    net = cv2.dnn.readNetFromCaffe(str(deploy_path), caffemodel)
    net.setInput(image.transpose(2, 0, 1)[np.newaxis])
    return dict(zip(names, net.forward(names)))


def head_rows(nchw, depth):
    """A head's NCHW output as [height * width * priors, depth] rows: Caffe's Permute(0,2,3,1) + Flatten."""
    return nchw.transpose(0, 2, 3, 1).reshape(-1, depth)


def assert_close_relative(actual, expected, what):
    """Largest difference under HEAD_RTOL of the largest reference magnitude."""
    scale = np.abs(expected).max()
    error = np.abs(actual - expected).max() / scale
    assert error < HEAD_RTOL, '%s: max error %.3g of the largest magnitude %.3g' % (what, error, scale)
