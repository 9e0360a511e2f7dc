"""Thin ROS 2 nodes over the pipelines; the only place rclpy is imported."""
