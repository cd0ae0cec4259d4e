"""The speed benchmark's arithmetic: ratios taken within rounds, then their median."""
import pytest

from tf1zoo.engine import benchmarking, speed_benchmark


def _round(conv_flops_per_second, ours, torchvision, opencv):
    """A round's timings: seconds per batch of 1 and 2 images (and per training step of 2 images);
    XLA takes twice our time, OpenCV does not train."""
    return {'tf_conv3x3_flops_per_second': conv_flops_per_second,
            'tensorflow': {'inference': {1: ours[0], 2: ours[1]}, 'training': ours[2]},
            'tensorflow_xla': {'inference': {1: ours[0] * 2, 2: ours[1] * 2}, 'training': ours[2]},
            'torchvision': {'inference': {1: torchvision[0], 2: torchvision[1]},
                            'training': torchvision[2]},
            'opencv': {'inference': {1: opencv[0], 2: opencv[1]}}}


def test_speed_ratios_are_taken_within_each_round_then_their_median_over_rounds():
    # The machine runs twice as fast in round 2 for every system: the ratios stay those of round 1.
    result = {'model_name': 'ssd_vgg_300', 'depth_multiplier': 1.0, 'flops_per_image': 60e9,
              'rounds': [_round(150e9, (0.5, 0.8, 4.0), (0.75, 1.6, 4.0), (0.5, 1.2)),
                         _round(300e9, (0.25, 0.4, 2.0), (0.375, 0.8, 2.0), (0.25, 0.6)),
                         _round(150e9, (0.5, 0.8, 4.0), (1.0, 2.0, 8.0), (0.4, 1.0))]}
    lines = speed_benchmark.summarise(result, [1, 2], 2)
    ratios = result['ratios']
    assert ratios['tensorflow_vs_torchvision_batch1'] == pytest.approx(1.5)  # 1.5, 1.5, 2.0
    assert ratios['tensorflow_vs_torchvision_batch2'] == pytest.approx(2.0)  # 2.0, 2.0, 2.5
    assert ratios['tensorflow_vs_torchvision_training'] == pytest.approx(1.0)  # 1.0, 1.0, 2.0
    assert ratios['tensorflow_vs_opencv_batch2'] == pytest.approx(1.5)  # 1.5, 1.5, 1.25
    assert ratios['tensorflow_xla_vs_opencv_batch1'] == pytest.approx(0.5)  # 0.5, 0.5, 0.4
    assert 'tensorflow_vs_opencv_training' not in ratios
    # Bound: 60 GFLOP at 150 GFLOP/s = 0.4 s per image; batch 2 takes 0.4 s per image too.
    assert ratios['tensorflow_batch1_latency_over_bound'] == pytest.approx(1.25)
    assert ratios['tensorflow_batch2_latency_over_bound'] == pytest.approx(1.0)
    assert result['rounds'][1]['tensorflow']['ms_per_image'][2] == pytest.approx(200.0)
    assert result['rounds'][0]['torchvision']['training_images_per_second'] == pytest.approx(0.5)
    assert 'tensorflow_vs_torchvision_batch1: median 1.50x (rounds: 1.50, 1.50, 2.00)' in lines


def test_cpu_description_reads_the_first_processor_of_cpuinfo(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nmodel name\t: AMD EPYC\ncpu family\t: 25\nmodel\t\t: 17\n'
                       'cpu MHz\t\t: 2596.1\nflags\t\t: fpu avx2 fma avx512f avx512_vnni sse\n\n'
                       'processor\t: 1\nmodel name\t: other\n')
    assert benchmarking.cpu_description(str(cpuinfo)) == {
        'cpu_model_name': 'AMD EPYC', 'cpu_family': '25', 'cpu_model': '17', 'cpu_mhz': '2596.1',
        'vector_extensions': ['avx2', 'avx512_vnni', 'avx512f', 'fma']}
    assert benchmarking.cpu_description(str(tmp_path / 'absent')) == {}
