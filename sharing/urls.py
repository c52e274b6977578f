from django.urls import path

import common.converters  # noqa: F401  (registers <id:...>)
from sharing import home, previews, views

app_name = "sharing"

urlpatterns = [
    path("", home.home, name="home"),
    path("favicon.ico", home.favicon, name="favicon"),
    path("share/<str:token>", views.page, name="page"),
    path("share/<str:token>/unlock", views.unlock, name="unlock"),
    path("share/<str:token>/video/<id:item>.mp4", views.video, name="video"),
    path("share/<str:token>/video/<id:item>/av1.mp4", previews.av1, name="video_av1"),
    path("share/<str:token>/poster/<id:item>.jpg", views.poster, name="poster"),
    # The VTT's cues name "sprite.jpg#xywh=...", which resolves to the route beside it.
    path("share/<str:token>/previews/<id:item>/sprite.vtt", previews.vtt, name="previews_vtt"),
    path("share/<str:token>/previews/<id:item>/sprite.jpg", previews.sprite, name="previews_sprite"),
    path("share/<str:token>/download", views.download, name="download"),
    path("share/<str:token>/download/<id:item>", views.download, name="download_item"),
    path("share/<str:token>/frame/<id:image>/thumb.jpg", views.frame_thumb, name="frame_thumb"),
    path("share/<str:token>/frame/<id:image>.jpg", views.frame_full, name="frame"),
    path("share/<str:token>/compare/<str:side>.jpg", views.compare_image, name="compare"),
    path("share-theme/<str:color>.css", views.theme_css, name="theme_css"),
    path("embed/<str:token>", views.embed, name="embed"),
    path("oembed", views.oembed, name="oembed"),
]
