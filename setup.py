"""Installs the repository's top-level folders as one import namespace, ``tf1zoo``.

The folders keep the tf-slim layout (``nets/``, ``ops/``, ...), but names such as
``datasets`` and ``ops`` would clash with well-known PyPI packages once installed,
so each folder is mapped to ``tf1zoo.<folder>``.
"""
import setuptools

_PACKAGES = ('ops', 'nets', 'preprocessing', 'datasets', 'converters', 'engine', 'scripts')

# tf-keras 2.21 depends on the `tensorflow` wheel itself, so that wheel (which runs
# on the CPU and uses a GPU when CUDA is present) is the default; `[gpu]` adds the
# CUDA libraries through TensorFlow's own extra.
_TF_VERSION = '2.21.0'

setuptools.setup(
    name='tf1-detection-zoo',
    version='0.1.0',
    description='Faithful TF1-style (graph mode) SSD, RefineDet, R-FCN, YOLO v1 and DCGAN.',
    python_requires='>=3.10,<3.14',
    packages=['tf1zoo.' + name for name in _PACKAGES],
    package_dir={'tf1zoo.' + name: name for name in _PACKAGES},
    install_requires=[
        'tensorflow==' + _TF_VERSION,
        'tf-keras==2.21.0',
        'tf-slim==1.1.0',
        'numpy>=1.26,<3',
        # 4.x keeps the Caffe importer (5.x drops it) that the conversion tests use.
        'opencv-python-headless>=4.10,<5',
        'pycocotools==2.0.11',
        'tqdm>=4.66',
        'absl-py>=2.1',
        # DCGAN's measures: the linear probe's L-BFGS (ops/linear_probe.py); tests check FID with sqrtm.
        'scipy>=1.11',
    ],
    extras_require={
        'gpu': ['tensorflow[and-cuda]==' + _TF_VERSION],
        # matplotlib ships the real photo (sample_data/grace_hopper.jpg) of the Caffe conversion tests.
        'test': ['pytest>=8', 'hypothesis>=6.100', 'ruff>=0.6', 'matplotlib>=3.8'],
    },
)
